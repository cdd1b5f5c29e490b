import Foundation
@testable import HeraldCore
import Testing

struct TemplateTests {
    let push = Push(
        event: Event(id: "e-1", team: "ops", name: "HighCPU", level: .error, objectID: "host-1",
                     labels: ["service": "api"], annotations: ["summary": "CPU \"97%\""],
                     startsAt: Date(timeIntervalSince1970: 1_700_000_000)),
        policy: "cpu", endpoint: "hook", level: .error, deliveryID: "herald-7")

    @Test func policyLevelInAURL() throws {
        let rendered = try TemplateSet(fields: ["url": "http://10.0.0.1/{{policy_level}}"]).render(push.fields)
        #expect(rendered["url"] == "http://10.0.0.1/Error")
    }

    @Test func labelsFiltersAndConditionals() throws {
        let templates = try TemplateSet(fields: [
            "a": "{{ labels.service | upper }} {{ name | lower }}",
            "b": "{% if status == \"firing\" %}FIRING{% else %}OK{% endif %} {{ starts_at }}",
            "c": "{{ annotations.summary | tojson }}",
            "d": "{{ missing | default:\"none\" }}",
        ])
        let rendered = try templates.render(push.fields)
        #expect(rendered["a"] == "API highcpu")
        #expect(rendered["b"] == "FIRING 2023-11-14T22:13:20.000Z")
        #expect(rendered["c"] == #""CPU \"97%\"""#)
        #expect(rendered["d"] == "none")
    }

    @Test func brokenTemplateIsRefusedAtLoadNamingTheField() {
        let error = #expect(throws: TemplateError.self) { try TemplateSet(fields: ["body": "{% if %}"]) }
        #expect(error?.field == "body")
    }
}

struct ConfigSchemaTests {
    let schema = try! ConfigSchema(json: """
        {"type":"object","additionalProperties":false,"required":["url"],"properties":{
          "url":{"type":"string","minLength":1,"x-herald-template":true},
          "port":{"type":"integer","minimum":1,"maximum":65535},
          "password":{"type":"string","x-herald-secret":true},
          "headers":{"type":"object","additionalProperties":{"type":"string"}},
          "levels":{"type":"array","items":{"type":"string"},"x-herald-levels":true}}}
        """)

    @Test func markersAreFound() {
        #expect(schema.templateFields == ["url"])
        #expect(schema.secretFields == ["password"])
    }

    @Test(arguments: [
        (#"{}"#, "url"),
        (#"{"url":""}"#, "url"),
        (#"{"url":"x","port":0}"#, "port"),
        (#"{"url":"x","port":1.5}"#, "port"),
        (#"{"url":"x","colour":"red"}"#, "colour"),
        (#"{"url":"x","headers":{"X-A":1}}"#, "headers.X-A"),
        (#"{"url":"x","levels":["Critical","Fatal"]}"#, "levels[1]"),
    ])
    func badConfigNamesTheField(json: String, field: String) throws {
        let error = #expect(throws: SchemaError.self) { try schema.validate(try JSONValue.parse(json)) }
        #expect(error?.path == field)
    }

    @Test func goodConfigPasses() throws {
        try schema.validate(try JSONValue.parse(#"{"url":"http://x","port":80,"headers":{"A":"b"},"levels":["critical","Recovery"]}"#))
    }
}

struct SubstitutionTests {
    let fields: [String: JSONValue] = [
        "name": .string("HighCPU"), "labels": .object(["service": .string("api"), "my-key": .string("v")]),
        "count": .number(3), "tags": .array([.string("a")]),
    ]

    /// The fast path renders exactly what Stencil renders (forced here by a tag).
    @Test(arguments: [
        "{{ name }}/{{ labels.service }}/{{ missing }}/{{ labels.nothing }}",
        "plain text", "{{count}} items", "{{ labels.my-key }}", "{{ name.length }}",
    ])
    func fastPathMatchesStencil(template: String) throws {
        #expect(Substitution.parse(template) != nil)
        let fast = try TemplateSet(fields: ["t": template]).render(fields)["t"]
        let stencil = try TemplateSet(fields: ["t": "{% if true %}\(template){% endif %}"]).render(fields)["t"]
        #expect(fast == stencil)
    }

    @Test func templatesWithFiltersOrTagsOrListsGoToStencil() {
        #expect(Substitution.parse("{{ name | upper }}") == nil)
        #expect(Substitution.parse("{% if x %}y{% endif %}") == nil)
        #expect(Substitution.render(Substitution.parse("{{ tags }}")!, fields) == nil)
    }
}
