/* libpcap, as the PCAP channel imports it. */
#include <pcap/pcap.h>
