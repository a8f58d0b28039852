package io.strata.server;

import io.strata.error.ErrorCode;
import io.strata.error.StrataException;

import java.nio.file.Path;
import java.util.Map;
import java.util.function.Function;

/**
 * How to reach the server, as a MariaDB client resolves it: explicit options win over the option
 * files ({@link OptionFiles}: groups [client] ... [mariadb-backup], [strata]), and for the
 * password those win over the environment variable {@value #MYSQL_PWD} (the client reads that
 * variable first and lets the option files override it).
 */
public record ConnectionOptions(String socket, String host, Integer port, String user, String password) {
    /** The client's password variable, the lowest-priority password source. */
    public static final String MYSQL_PWD = "MYSQL_PWD";

    /** As {@link #resolve(String, String, Integer, String, String, OptionFiles.Sources, Function)} with only {@code defaultsFile} (null: the default files). */
    public static ConnectionOptions resolve(String socket, String host, Integer port, String user, String password, Path defaultsFile) {
        return resolve(socket, host, port, user, password, new OptionFiles.Sources(defaultsFile, null, null, false), System::getenv);
    }

    /**
     * The connection: each of {@code socket}, {@code host}, {@code port}, {@code user},
     * {@code password} (null: not given) else the option files' value; the user defaults to the
     * OS user, the password to {@code env}'s MYSQL_PWD.
     *
     * @throws StrataException USAGE for an unreadable --defaults-file/--defaults-extra-file or a bad port in a file
     */
    public static ConnectionOptions resolve(String socket, String host, Integer port, String user, String password,
                                            OptionFiles.Sources sources, Function<String, String> env) {
        String suffix = sources.groupSuffix() != null ? sources.groupSuffix() : env.apply("MYSQL_GROUP_SUFFIX");
        Map<String, String> file = OptionFiles.read(OptionFiles.files(sources, env, System.getProperty("user.home")), suffix);
        String s = socket != null ? socket : file.get("socket");
        String h = host != null ? host : file.get("host");
        Integer p = port != null ? port : (file.containsKey("port") ? parsePort(file.get("port")) : null);
        String u = user != null ? user : file.getOrDefault("user", System.getProperty("user.name"));
        String pw = password != null ? password : file.getOrDefault("password", env.apply(MYSQL_PWD));
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
