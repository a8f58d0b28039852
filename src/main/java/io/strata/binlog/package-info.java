/**
 * Pure reader of MariaDB 10.11 to 11.8 binary logs: streams in, events and transaction boundaries out; no
 * files, no JDBC, no repository.
 *
 * <pre>
 * structure                          where                                  class
 * magic FE 62 69 6E                  offset 0 of every binlog file          {@link io.strata.binlog.BinlogScanner}
 * common event header (19 bytes)     every event                            {@link io.strata.binlog.BinlogEvent}
 * format description event           offset 4: version, checksum algorithm  {@link io.strata.binlog.BinlogScanner}
 * GTID event                         first event of every transaction       {@link io.strata.binlog.Gtid}
 * CRC-32 trailer                     last 4 bytes of each event (CRC32)     {@link io.strata.binlog.BinlogScanner}
 * </pre>
 *
 * Version notes: MariaDB writes a GTID event before every event group since 10.0, and checksums
 * (binlog_checksum=CRC32) by default since 10.2. The format description event always carries a
 * CRC-32, computed with its in-use flag cleared because the server clears that flag in place when
 * it closes the file. Encrypted binlogs (a START_ENCRYPTION event after the format description)
 * are recognised and refused. Compressed events (log_bin_compress) are walked like any other.
 * Since 11.4 (MDEV-31273) the events a transaction collects in its cache carry log_pos 0 unless
 * binlog_legacy_event_pos=ON; the scanner accepts that inside an event group only. Since 11.4 the
 * server also writes a GTID index beside each binlog ({@code binlog.NNNNNN.idx},
 * binlog_gtid_index=ON), and since 11.7 it keeps the cache files of transactions in
 * {@code #binlog_cache_files/} in the binlog directory (a transaction above
 * binlog_large_commit_threshold becomes a binlog file of its own by renaming its cache file);
 * neither is a binlog, and strata reads neither.
 */
package io.strata.binlog;
