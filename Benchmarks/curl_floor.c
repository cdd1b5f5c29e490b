/* The least CPU and time one webhook costs its sender through libcurl, the
 * library Herald's HTTP channel sends with: up to CONNECTIONS keep-alive
 * transfers in one multi handle on one thread, each POSTing a 400-byte JSON
 * body, for SECONDS. Without RATE each starts again as soon as its answer is
 * in (a burst); with RATE a transfer starts every 1/RATE s on schedule (open
 * loop) and its latency counts from the scheduled time. Prints the requests,
 * this process's CPU (user + system) per request and the latencies. Nothing
 * else runs in the process, so this is a floor for any sender built on
 * libcurl.
 *
 *   curl_floor URL CONNECTIONS SECONDS [RATE]
 */
#include <curl/curl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static size_t discard(char *data, size_t size, size_t count, void *context) {
    (void)data; (void)context;
    return size * count;
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double now(void) {
    struct timespec spec;
    clock_gettime(CLOCK_MONOTONIC, &spec);
    return (double)spec.tv_sec + (double)spec.tv_nsec / 1e9;
}

static double cpu_seconds(void) {
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return (double)(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
         + (double)(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

int main(int argc, char **argv) {
    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: curl_floor URL CONNECTIONS SECONDS [RATE]\n");
        return 2;
    }
    const char *url = argv[1];
    int connections = atoi(argv[2]);
    double seconds = atof(argv[3]);
    double rate = argc == 5 ? atof(argv[4]) : 0;
    if (connections < 1 || connections > 1024 || !(seconds > 0 && seconds <= 600) || !(rate >= 0 && rate <= 1e6)) {
        fprintf(stderr, "curl_floor: CONNECTIONS must be 1..1024, SECONDS 0..600 and RATE 0..1000000\n");
        return 2;
    }
    /* Each finished transfer's latency (ms), at most one per scheduled start. */
    size_t capacity = rate > 0 ? (size_t)(rate * seconds) + 1 : 0;
    double *latencies = capacity ? calloc(capacity, sizeof *latencies) : NULL;
    double *scheduled = calloc((size_t)connections, sizeof *scheduled);
    CURL **idle = calloc((size_t)connections, sizeof *idle);
    size_t measured = 0, started = 0;
    int idle_count = 0;
    static char body[400];
    snprintf(body, sizeof body, "{\"labels\":{\"alertname\":\"Floor\",\"seq\":\"floor\"},\"annotations\":{\"summary\":\"%s\"}}",
             "the least a webhook costs its sender");
    memset(body + strlen(body), ' ', sizeof body - strlen(body) - 1);

    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURLM *multi = curl_multi_init();
    struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
    CURL **handles = calloc((size_t)connections, sizeof *handles);
    if (!multi || !headers || !handles) return 1;
    for (int i = 0; i < connections; i++) {
        handles[i] = curl_easy_init();
        curl_easy_setopt(handles[i], CURLOPT_URL, url);
        curl_easy_setopt(handles[i], CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(handles[i], CURLOPT_POSTFIELDSIZE, (long)(sizeof body - 1));
        curl_easy_setopt(handles[i], CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(handles[i], CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(handles[i], CURLOPT_PRIVATE, (void *)(long)i);
        if (rate > 0) idle[idle_count++] = handles[i]; else curl_multi_add_handle(multi, handles[i]);
    }
    if ((capacity && !latencies) || !scheduled || !idle) return 1;

    long done = 0, failed = 0;
    double cpu_start = cpu_seconds(), start = now(), deadline = start + seconds;
    int running = rate > 0 ? 0 : connections;
    while (running > 0 || (rate > 0 && now() < deadline)) {
        if (rate > 0) {
            /* Open loop: every start whose time has come, while a connection is free. */
            double next;
            while ((next = start + (double)started / rate) <= now() && next < deadline && idle_count > 0) {
                CURL *easy = idle[--idle_count];
                long index = 0;
                curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&index);
                scheduled[index] = next;
                started++;
                curl_multi_add_handle(multi, easy);
                running++;
            }
        }
        curl_multi_perform(multi, &running);
        CURLMsg *message;
        int left;
        while ((message = curl_multi_info_read(multi, &left))) {
            if (message->msg != CURLMSG_DONE) continue;
            CURL *easy = message->easy_handle;
            long status = 0;
            curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
            if (message->data.result == CURLE_OK && status / 100 == 2) done++; else failed++;
            curl_multi_remove_handle(multi, easy);
            if (rate > 0) {
                long index = 0;
                curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&index);
                if (measured < capacity) latencies[measured++] = (now() - scheduled[index]) * 1000;
                idle[idle_count++] = easy;
            } else if (now() < deadline) {
                curl_multi_add_handle(multi, easy);
                running++;
            }
        }
        double until_ms = rate > 0 ? (start + (double)started / rate - now()) * 1000 : 100;
        if (rate > 0 && running == 0 && until_ms > 0) {
            /* Nothing in flight: sleep to the next start, which may be under a millisecond away. */
            struct timespec pause = {(time_t)(until_ms / 1000), (long)(fmod(until_ms, 1000) * 1e6)};
            nanosleep(&pause, NULL);
        } else if (running > 0) {
            curl_multi_poll(multi, NULL, 0, until_ms <= 0 ? 0 : until_ms < 100 ? (int)ceil(until_ms) : 100, NULL);
        }
    }
    double wall = now() - start, cpu = cpu_seconds() - cpu_start;
    printf("%ld requests (%ld failed) in %.1f s: %.0f requests/s, %.1f us CPU per request",
           done, failed, wall, (double)done / wall, done ? cpu * 1e6 / (double)done : 0.0);
    if (measured > 0) {
        qsort(latencies, measured, sizeof *latencies, by_value);
        printf(", latency p50 %.2f / p99 %.2f ms", latencies[measured / 2], latencies[measured * 99 / 100]);
    }
    printf("\n");

    for (int i = 0; i < connections; i++) curl_easy_cleanup(handles[i]);
    curl_slist_free_all(headers);
    curl_multi_cleanup(multi);
    curl_global_cleanup();
    return failed ? 1 : 0;
}
