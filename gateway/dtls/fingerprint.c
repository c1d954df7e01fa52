/* This file implements certificate fingerprints as SDP writes them (RFC 8122): the hash names
 * WebRTC stacks use and the "AB:CD:..." text form, formatted and parsed. */
#include "gateway/dtls/dtls_internal.h"

#include <errno.h>
#include <strings.h>

#include <openssl/evp.h>

struct digest_name {
    const char *name;
    const EVP_MD *(*md)(void);
};

static const struct digest_name digests[] = {
    {"sha-1", EVP_sha1},     {"sha-224", EVP_sha224}, {"sha-256", EVP_sha256},
    {"sha-384", EVP_sha384}, {"sha-512", EVP_sha512},
};

const EVP_MD *dtls_digest_by_name(const char *hash)
{
    if (!hash)
        return NULL;
    for (size_t i = 0; i < sizeof(digests) / sizeof(digests[0]); i++)
        if (strcasecmp(hash, digests[i].name) == 0)
            return digests[i].md();
    return NULL;
}

void dtls_fp_format(const uint8_t *digest, size_t len, char *out)
{
    static const char hex[] = "0123456789ABCDEF";
    char *p = out;
    for (size_t i = 0; i < len; i++) {
        if (i > 0)
            *p++ = ':';
        *p++ = hex[digest[i] >> 4];
        *p++ = hex[digest[i] & 15];
    }
    *p = '\0';
}

static int hex_value(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

int dtls_fp_parse(const char *text, uint8_t *out, size_t want)
{
    if (!text)
        return -EINVAL;
    const char *p = text;
    for (size_t i = 0; i < want; i++) {
        if (i > 0 && *p++ != ':')
            return -EINVAL;
        int hi = hex_value(p[0]);
        int lo = hi < 0 ? -1 : hex_value(p[1]);
        if (lo < 0)
            return -EINVAL;
        out[i] = (uint8_t)(hi << 4 | lo);
        p += 2;
    }
    return *p == '\0' ? 0 : -EINVAL;
}
