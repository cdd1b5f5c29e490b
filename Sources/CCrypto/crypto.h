/* OpenSSL's libcrypto, for the Aliyun channel's HMAC signature. */
#include <openssl/evp.h>
#include <openssl/hmac.h>
