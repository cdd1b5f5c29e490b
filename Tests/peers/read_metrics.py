#!/usr/bin/env python3
"""Reads a Prometheus text exposition with prometheus_client's parser (an
independent reader of the format) and prints its samples as JSON:
[{"name": ..., "labels": {...}, "value": ...}, ...]. A line the parser
refuses makes it exit non-zero."""
import json, sys
from prometheus_client.parser import text_string_to_metric_families

with open(sys.argv[1], encoding="utf-8") as f:
    text = f.read()
samples = []
for family in text_string_to_metric_families(text):
    for sample in family.samples:
        samples.append({"name": sample.name, "labels": sample.labels, "value": sample.value, "type": family.type})
json.dump(samples, sys.stdout)
