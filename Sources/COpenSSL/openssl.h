/* OpenSSL, as the channels use it: HMAC for the Aliyun signature, TLS for syslog. */
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
