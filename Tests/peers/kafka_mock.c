/* A Kafka-protocol broker for tests: librdkafka's mock cluster, served
** until SIGTERM. Prints its bootstrap address on the first line of stdout.
** SIGUSR1 takes every broker down (connections refused), SIGUSR2 brings
** them back: a broker outage without losing what it stored.
** Usage: kafka_mock [brokers [error-code [api-key]]]: with an error code,
** the first request of that API (default 0, Produce; 22 is InitProducerId)
** is answered with that error (29: topic authorization failed, 10: message
** too large...). */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    int brokers = argc > 1 ? atoi(argv[1]) : 1;
    /* Block the signals before librdkafka starts its threads, so only
    ** sigwait below sees them. */
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGUSR1);
    sigaddset(&signals, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &signals, NULL);

    char error[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
    if (!rk) { fprintf(stderr, "rd_kafka_new: %s\n", error); return 1; }
    rd_kafka_mock_cluster_t *cluster = rd_kafka_mock_cluster_new(rk, brokers);
    if (!cluster) { fprintf(stderr, "could not start the mock cluster\n"); return 1; }
    if (argc > 2)
        rd_kafka_mock_push_request_errors(cluster, argc > 3 ? (int16_t)atoi(argv[3]) : 0, 1,
                                          (rd_kafka_resp_err_t)atoi(argv[2]));
    printf("%s\n", rd_kafka_mock_cluster_bootstraps(cluster));
    fflush(stdout);

    for (;;) {
        int signal = 0;
        sigwait(&signals, &signal);
        if (signal == SIGUSR1 || signal == SIGUSR2) {
            for (int id = 1; id <= brokers; id++) {
                if (signal == SIGUSR1) rd_kafka_mock_broker_set_down(cluster, id);
                else rd_kafka_mock_broker_set_up(cluster, id);
            }
            fprintf(stderr, "brokers %s\n", signal == SIGUSR1 ? "down" : "up");
            continue;
        }
        break;
    }
    rd_kafka_mock_cluster_destroy(cluster);
    rd_kafka_destroy(rk);
    return 0;
}
