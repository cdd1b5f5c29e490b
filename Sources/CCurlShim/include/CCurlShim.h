/* CCurlShim: fixed-arity wrappers over libcurl's variadic calls, which
** Swift cannot call. One wrapper per argument type; nothing else. Shared by
** every libcurl channel; knows nothing of Herald. */
#ifndef CCURLSHIM_H
#define CCURLSHIM_H

#include <curl/curl.h>

typedef size_t (*herald_curl_data_callback)(char *data, size_t size, size_t count, void *context);

CURLcode herald_curl_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode herald_curl_setopt_string(CURL *handle, CURLoption option, const char *value);
CURLcode herald_curl_setopt_pointer(CURL *handle, CURLoption option, void *value);
CURLcode herald_curl_setopt_callback(CURL *handle, CURLoption option, herald_curl_data_callback value);
CURLcode herald_curl_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value);

CURLcode herald_curl_getinfo_long(CURL *handle, CURLINFO info, long *value);
CURLcode herald_curl_getinfo_off_t(CURL *handle, CURLINFO info, curl_off_t *value);
CURLcode herald_curl_getinfo_pointer(CURL *handle, CURLINFO info, void **value);

CURLMcode herald_curl_multi_setopt_long(CURLM *multi, CURLMoption option, long value);

/* CURLMsg's result lives in a union Swift reads awkwardly. */
static inline CURLcode herald_curl_msg_result(const CURLMsg *message) { return message->data.result; }

#endif
