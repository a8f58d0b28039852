package io.strata.server;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How to reach the server, as a MariaDB client resolves it: explicit options win over the
 * [client] and [client-server] sections of the option files (only --defaults-file when given,
 * else /etc/mysql/my.cnf, /etc/my.cnf and ~/.my.cnf, following !include and !includedir).
 */
public record ConnectionOptions(String socket, String host, Integer port, String user, String password) {

    public static ConnectionOptions resolve(String socket, String host, Integer port, String user, String password, Path defaultsFile) {
        Map<String, String> file = new LinkedHashMap<>();
        List<Path> files = new ArrayList<>();
        if (defaultsFile != null) {
            if (!Files.isReadable(defaultsFile)) {
                throw new StrataException(ErrorCode.USAGE, "--defaults-file " + defaultsFile + " does not exist or is not readable", null);
            }
            files.add(defaultsFile);
        } else {
            files.add(Path.of("/etc/mysql/my.cnf"));
            files.add(Path.of("/etc/my.cnf"));
            String home = System.getProperty("user.home");
            if (home != null) {
                files.add(Path.of(home, ".my.cnf"));
            }
        }
        for (Path f : files) {
            readClientSections(f, file, 0);
        }
        String s = socket != null ? socket : file.get("socket");
        String h = host != null ? host : file.get("host");
        Integer p = port != null ? port : (file.containsKey("port") ? parsePort(file.get("port")) : null);
        String u = user != null ? user : file.getOrDefault("user", System.getProperty("user.name"));
        String pw = password != null ? password : file.get("password");
        return new ConnectionOptions(s, h, p, u, pw);
    }

    private static Integer parsePort(String v) {
        int p;
        try {
            p = Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new StrataException(ErrorCode.USAGE, "port=" + v + " in an option file is not a number (a TCP port is 1 to 65535)", null);
        }
        if (p < 1 || p > 65535) {
            throw new StrataException(ErrorCode.USAGE, "port=" + v + " in an option file is out of range: a TCP port is 1 to 65535", null);
        }
        return p;
    }

    static void readClientSections(Path f, Map<String, String> into, int depth) {
        if (depth > 8 || !Files.isReadable(f) || Files.isDirectory(f)) {
            return;
        }
        List<String> lines;
        try {
            lines = Files.readAllLines(f, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return;
        }
        boolean inClient = false;
        for (String raw : lines) {
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#") || line.startsWith(";")) {
                continue;
            }
            if (line.startsWith("!includedir")) {
                Path dir = Path.of(line.substring("!includedir".length()).strip());
                try (var s = Files.list(dir)) {
                    s.filter(p -> p.toString().endsWith(".cnf")).sorted().forEach(p -> readClientSections(p, into, depth + 1));
                } catch (IOException ignored) {
                    // a missing include directory is not an error for clients either
                }
                continue;
            }
            if (line.startsWith("!include")) {
                readClientSections(Path.of(line.substring("!include".length()).strip()), into, depth + 1);
                continue;
            }
            if (line.startsWith("[")) {
                String section = line.substring(1, line.indexOf(']') > 0 ? line.indexOf(']') : line.length()).strip().toLowerCase();
                inClient = section.equals("client") || section.equals("client-server") || section.equals("client-mariadb");
                continue;
            }
            if (!inClient) {
                continue;
            }
            int eq = line.indexOf('=');
            String key = (eq < 0 ? line : line.substring(0, eq)).strip().replace('-', '_');
            String value = eq < 0 ? "" : line.substring(eq + 1).strip();
            if (value.length() >= 2 && (value.startsWith("\"") && value.endsWith("\"") || value.startsWith("'") && value.endsWith("'"))) {
                value = value.substring(1, value.length() - 1);
            }
            into.put(key, value);
        }
    }

    /** JDBC URL for Connector/J; a socket wins over host and port as in the mariadb client. */
    public String jdbcUrl() {
        StringBuilder sb = new StringBuilder("jdbc:mariadb://");
        boolean useSocket = socket != null && (host == null || host.equals("localhost"));
        sb.append(useSocket || host == null ? "localhost" : host);
        if (!useSocket && port != null) {
            sb.append(':').append(port);
        }
        sb.append("/?connectTimeout=10000&permitMysqlScheme&allowPublicKeyRetrieval=true");
        if (useSocket) {
            sb.append(socketOptions(socket));
        } else if (host == null && port == null) {
            sb.append(socketOptions("/run/mysqld/mysqld.sock"));
        }
        return sb.toString();
    }

    /** The URL options that connect through a unix socket (see {@link UnixSocketFactory}). */
    public static String socketOptions(String socket) {
        return "&socketFactory=" + UnixSocketFactory.class.getName() + "&" + UnixSocketFactory.PATH_OPTION + "=" + socket;
    }

    /** A URL for a throwaway server of our own, reached as root over its unix socket. */
    public static String rootUrl(String socket) {
        return "jdbc:mariadb://localhost/?connectTimeout=10000&user=root" + socketOptions(socket);
    }

    /** Never the password: this record may end up in a message or a log. */
    @Override
    public String toString() {
        return "ConnectionOptions[" + describe() + ", user=" + user + (password == null ? "" : ", password=***") + "]";
    }

    /** Where we connect, for messages (never the password). */
    public String describe() {
        boolean useSocket = socket != null && (host == null || host.equals("localhost"));
        if (useSocket) {
            return "socket " + socket;
        }
        if (host == null && port == null) {
            return "socket /run/mysqld/mysqld.sock";
        }
        return (host == null ? "localhost" : host) + ":" + (port == null ? 3306 : port);
    }
}
