package io.strata.codec;

/** A chunk that cannot be decoded (damaged compressed data, failed authentication) or a bad key. */
public class CodecException extends RuntimeException {
    public CodecException(String message) {
        super(message);
    }

    public CodecException(String message, Throwable cause) {
        super(message, cause);
    }

    /** The chunk's GCM tag did not verify: wrong key, or the stored bytes were altered. */
    public static final class AuthenticationFailed extends CodecException {
        public AuthenticationFailed(String message) {
            super(message);
        }
    }
}
