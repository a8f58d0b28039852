package io.strata.store;

import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.scheme.AwsV4AuthScheme;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.scheme.AuthScheme;
import software.amazon.awssdk.http.auth.spi.signer.AsyncSignRequest;
import software.amazon.awssdk.http.auth.spi.signer.AsyncSignedRequest;
import software.amazon.awssdk.http.auth.spi.signer.HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.SignRequest;
import software.amazon.awssdk.http.auth.spi.signer.SignedRequest;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;
import software.amazon.awssdk.identity.spi.IdentityProvider;
import software.amazon.awssdk.identity.spi.IdentityProviders;

import java.util.concurrent.CompletableFuture;

/**
 * Signature version 4 with {@code x-amz-content-sha256: UNSIGNED-PAYLOAD} on every request, over
 * plain HTTP as over HTTPS: the request line and headers are signed, the body is not hashed.
 *
 * <p>Why: the SDK (2.31) decides on its own that a request with a body sent over {@code http://}
 * has its payload signed, and for PutObject and UploadPart that means the aws-chunked encoding:
 * the SDK hashes every byte with SHA-256 and signs every 128 KiB chunk, and the service parses and
 * checks every chunk. On loopback to S3Proxy that was most of the CPU of a backup into S3 (issue
 * 17: 6.5 s of strata's and 5 s of S3Proxy's for 1.1 GB). Over HTTPS the SDK already sends
 * UNSIGNED-PAYLOAD for S3 (TLS carries the integrity); S3 and the S3-compatible services accept
 * it over HTTP too (SigV4, "unsigned payload option").
 *
 * <p>What guards the bytes instead: every object strata stores carries a CRC-32C per chunk and
 * one over the whole object, checked on every read (restore, verify, copy); an encrypted
 * repository seals every chunk with AES-GCM, so an altered byte is refused there. The signature
 * still authenticates who sent the request and what it does (method, key, headers).
 *
 * <p>How: the SDK's signer hashes the payload when the request's protocol is not "https"; this
 * signer hands it a copy of the request whose protocol reads "https" (with an explicit port when
 * the original used HTTP's default, so that the signed Host header is the one sent) and puts the
 * original protocol and port back on the signed request. The scheme, the only part that differs,
 * is not part of a SigV4 signature.
 */
final class UnsignedPayloadScheme implements AuthScheme<AwsCredentialsIdentity> {
    private final AwsV4HttpSigner signer = AwsV4HttpSigner.create();

    @Override
    public String schemeId() {
        return AwsV4AuthScheme.SCHEME_ID;
    }

    @Override
    public IdentityProvider<AwsCredentialsIdentity> identityProvider(IdentityProviders providers) {
        return providers.identityProvider(AwsCredentialsIdentity.class);
    }

    @Override
    public HttpSigner<AwsCredentialsIdentity> signer() {
        return new HttpSigner<>() {
            @Override
            public SignedRequest sign(SignRequest<? extends AwsCredentialsIdentity> request) {
                SdkHttpRequest original = request.request();
                if (!"https".equals(original.protocol()) && original.port() == 443) {
                    return signer.sign(request); // http on 443: its Host header cannot be told from https's
                }
                SignRequest<? extends AwsCredentialsIdentity> asHttps = request.copy(b -> b
                        .request(asHttps(original))
                        .putProperty(AwsV4HttpSigner.PAYLOAD_SIGNING_ENABLED, false)
                        .putProperty(AwsV4HttpSigner.CHUNK_ENCODING_ENABLED, false));
                SignedRequest signed = signer.sign(asHttps);
                return signed.copy(b -> b.request(restore(signed.request(), original)));
            }

            @Override
            public CompletableFuture<AsyncSignedRequest> signAsync(AsyncSignRequest<? extends AwsCredentialsIdentity> request) {
                return signer.signAsync(request); // strata's client is synchronous
            }
        };
    }

    /** The same request as HTTPS, with the port written out when it is HTTP's default. */
    static SdkHttpRequest asHttps(SdkHttpRequest r) {
        if ("https".equals(r.protocol())) {
            return r;
        }
        int port = r.port();
        return r.toBuilder().protocol("https").port(port <= 0 || port == 80 ? 443 : port).build();
    }

    private static SdkHttpRequest restore(SdkHttpRequest signed, SdkHttpRequest original) {
        return signed.toBuilder().protocol(original.protocol()).port(original.port()).build();
    }
}
