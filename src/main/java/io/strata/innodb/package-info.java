/**
 * Pure readers and writers of MariaDB 10.11 InnoDB on-disk formats: byte arrays in, records and verdicts
 * out; no files, no JDBC.
 *
 * <pre>
 * structure                       where                                     class
 * FIL header / trailer            every page of ibdata1, undoNNN, *.ibd      {@link io.strata.innodb.FilHeader}
 * FSP header, crypt data          page 0 of every tablespace                 {@link io.strata.innodb.FspHeader}
 * FSP_SPACE_FLAGS                 page 0, offset 54                          {@link io.strata.innodb.TablespaceFlags}
 * page checksums                  every page                                 {@link io.strata.innodb.PageChecker}
 * legacy page_compressed frame    pages of type 34354 (PAGE_COMPRESSED=1,    {@link io.strata.innodb.LegacyPageCompression}
 *                                 created under crc32/innodb checksums)
 * redo log header                 ib_logfile0 offset 0                       {@link io.strata.innodb.LogHeader}
 * checkpoint blocks               ib_logfile0 offsets 4096, 8192             {@link io.strata.innodb.Checkpoint}
 * mini-transactions               ib_logfile0 from 12288, circular           {@link io.strata.innodb.MtrParser}
 * redo log encryption             header 48..75, each mtr's nonce and bodies {@link io.strata.innodb.LogCrypt}
 * a backup's stored redo object   mtrs from the start checkpoint, as a stream {@link io.strata.innodb.StoredRedo}
 * </pre>
 *
 * Version notes: full_crc32 tablespaces (flag bit 4) are the default since MariaDB 10.5; older and
 * crc32-created tablespaces use the legacy layout with two checksum fields. ROW_FORMAT=COMPRESSED
 * tablespaces always use the legacy flags (full_crc32 has no room for KEY_BLOCK_SIZE); their pages are
 * KEY_BLOCK_SIZE bytes with no trailer and one checksum at [0,4) over the compressed frame
 * ({@link io.strata.innodb.PageChecksums#zipCrc32}). The redo log format described
 * here (single ib_logfile0, no block headers, one LSN per byte, CRC-32C per mtr, sequence bit) exists
 * since MariaDB 10.8; 10.5..10.7 used 512-byte log blocks and are refused by {@link io.strata.innodb.LogHeader}.
 * The encrypted log of 10.11+ (innodb_encrypt_log=ON, format word 0xF09F979D) is framed without a key and its
 * records are decrypted with one ({@link io.strata.innodb.LogCrypt}); the encrypted format of 10.8..10.10 is not read.
 */
package io.strata.innodb;
