/**
 * Compression and encryption of single chunks, and the keys for the encryption.
 *
 * <p>Knows nothing of objects, repositories or MariaDB: it turns the bytes of one chunk into
 * stored bytes and back. {@link io.strata.codec.Compression} names a compressor (zstd with a
 * level, lz4, none); {@link io.strata.codec.Compressors} runs it with per-thread contexts so that
 * chunks can be encoded on many threads at once, with their native libraries loaded from strata's
 * own directory by {@link io.strata.codec.NativeLibs}; {@link io.strata.codec.ChunkCipher} seals a chunk
 * with AES-256-GCM and authenticated data chosen by the caller; {@link io.strata.codec.KeyParams}
 * derives the key from a key file or a passphrase and checks it without storing it.
 * Failures are {@link io.strata.codec.CodecException}; callers add the resource to the message.
 */
package io.strata.codec;
