/* This file implements the names of DTLS roles, states and SRTP profiles, and the choice of
 * our role from the remote a=setup. */
#include "gateway/dtls/dtls.h"

#include <errno.h>
#include <strings.h>

int dtls_role_from_remote_setup(const char *remote_setup, enum dtls_role *out)
{
    if (!remote_setup)
        return -EINVAL;
    /* Like Janus: answering an offer (actpass) we take the active role, so the handshake can
     * start as soon as ICE connects, without waiting for the peer. */
    if (strcasecmp(remote_setup, "actpass") == 0 || strcasecmp(remote_setup, "passive") == 0) {
        *out = DTLS_ROLE_CLIENT;
        return 0;
    }
    if (strcasecmp(remote_setup, "active") == 0) {
        *out = DTLS_ROLE_SERVER;
        return 0;
    }
    return -EINVAL;
}

const char *dtls_role_setup_name(enum dtls_role role)
{
    return role == DTLS_ROLE_CLIENT ? "active" : "passive";
}

const char *dtls_state_name(enum dtls_state state)
{
    switch (state) {
    case DTLS_NEW:
        return "new";
    case DTLS_CONNECTING:
        return "connecting";
    case DTLS_CONNECTED:
        return "connected";
    case DTLS_FAILED:
        return "failed";
    case DTLS_CLOSED:
        return "closed";
    }
    return "unknown";
}

const char *dtls_srtp_profile_name(enum dtls_srtp_profile profile)
{
    switch (profile) {
    case DTLS_SRTP_AES128_CM_SHA1_80:
        return "SRTP_AES128_CM_SHA1_80";
    case DTLS_SRTP_AES128_CM_SHA1_32:
        return "SRTP_AES128_CM_SHA1_32";
    case DTLS_SRTP_AEAD_AES_128_GCM:
        return "SRTP_AEAD_AES_128_GCM";
    case DTLS_SRTP_AEAD_AES_256_GCM:
        return "SRTP_AEAD_AES_256_GCM";
    case DTLS_SRTP_NONE:
        break;
    }
    return NULL;
}
