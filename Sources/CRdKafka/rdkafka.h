/* librdkafka, as the Kafka channel imports it. */
#include <librdkafka/rdkafka.h>
