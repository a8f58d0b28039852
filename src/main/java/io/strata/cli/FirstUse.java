package io.strata.cli;

import io.strata.codec.Secret;
import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.codec.Compression;
import io.strata.repo.Repository;
import io.strata.server.ConnectionOptions;
import io.strata.server.ServerFacts;
import io.strata.server.ServerSession;
import io.strata.store.StoreLocation;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * How the writers (backup, track, binlog archive) open their repository: an existing one as it
 * is; a new one only after the server has answered and passed the checks its run makes before
 * writing anything (connection, credentials, MariaDB, a readable data directory, and what
 * {@code more} adds, on the same connection: a backup's privileges). A command that fails before it would write leaves no repository behind, so
 * a typo in --repo with the server down creates nothing. Failures with an existing repository are
 * left to the run, which records them in its history ({@code status} reports them).
 */
final class FirstUse {
    private FirstUse() {}

    /** @param compression recorded as the default of a repository created here (null: none) */
    static Repository openOrCreate(StoreLocation where, Secret secret, Compression compression, ConnectionOptions conn, Path datadir,
                                   java.util.function.BiConsumer<ServerSession, ServerFacts> more) {
        if (!Repository.exists(where)) {
            ServerFacts facts;
            try (ServerSession s = ServerSession.connect(conn)) {
                facts = ServerFacts.read(s, datadir);
                more.accept(s, facts);
            }
            if (!where.isS3()) {
                refuseInside(where.dir(), facts.datadir(), conn.describe());
            }
        }
        return Repository.openOrCreate(where, secret, compression);
    }

    /**
     * A repository inside the data directory it backs up is refused (a usage error: the value of
     * --repo is wrong for this server, whatever the repository holds): every backup would copy the
     * repository into itself, and a restore over the data directory would delete it.
     */
    static void refuseInside(Path repo, Path datadir, String server) {
        Path r = real(repo);
        Path d = real(datadir);
        if (r.startsWith(d)) {
            throw new StrataException(ErrorCode.USAGE, "--repo " + repo + " is inside the data directory " + datadir + " of the server at " + server
                    + ": each backup would copy the repository into itself, and restoring the data directory would delete it",
                    "put the repository outside the data directory, preferably on another disk");
        }
    }

    /** The path with every symbolic link of its existing part resolved, the rest appended as given. */
    static Path real(Path p) {
        Path abs = p.toAbsolutePath().normalize();
        Path existing = abs;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing == null) {
            return abs;
        }
        try {
            return existing.toRealPath().resolve(existing.relativize(abs));
        } catch (IOException e) {
            return abs;
        }
    }
}
