package io.strata.repo;

import com.fasterxml.jackson.annotation.JsonIgnore;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The source server's key management (manifest field {@code keyManagement}): what crash recovery
 * of a backup with server-encrypted InnoDB data needs besides the files. Never key material: a
 * plugin variable that may hold a secret (see {@link #isSecret}) is named in {@code secrets} and
 * recorded with a null value, unless its value is a {@code FILE:} reference (a path, which is no
 * secret by itself).
 *
 * @param required  whether recovery needs the key management: some stored tablespace is encrypted
 *                  (by the server's INFORMATION_SCHEMA.INNODB_TABLESPACES_ENCRYPTION, the table's
 *                  {@code ENCRYPTED=YES} option, or crypt data on page 0), or
 *                  {@code innodb_encrypt_tables} or {@code innodb_encrypt_log} is on
 * @param reasons   why it is required, one short sentence each (e.g. "d/e2.ibd is encrypted
 *                  (INNODB_TABLESPACES_ENCRYPTION)"); empty when not required
 * @param encrypted datadir-relative paths of the stored tablespaces found encrypted, sorted
 * @param plugins   the active ENCRYPTION plugins (INFORMATION_SCHEMA.PLUGINS), in the server's order
 * @param innodb    every {@code innodb_encrypt_*} and {@code innodb_encryption_*} variable with
 *                  its global value as the server shows it (e.g. {@code innodb_encrypt_tables=ON})
 */
public record KeyManagement(boolean required, List<String> reasons, List<String> encrypted, List<Plugin> plugins, Map<String, String> innodb) {

    /**
     * One active key-management plugin.
     *
     * @param name      PLUGIN_NAME, e.g. {@code file_key_management}
     * @param library   PLUGIN_LIBRARY, e.g. {@code file_key_management.so}; null for a built-in plugin
     * @param variables its system variables (those named {@code NAME_*}) with their global values,
     *                  by lower-case name; a secret's value is null
     * @param secrets   names of the variables whose value was not recorded because it may be key
     *                  material or a password (sorted)
     */
    public record Plugin(String name, String library, Map<String, String> variables, List<String> secrets) {}

    /** The prefix of a {@code file_key_management_filekey} value that names a file instead of holding the password. */
    public static final String FILE_REFERENCE = "FILE:";

    private static final Pattern SECRET = Pattern.compile("filekey|password|passwd|secret|token|credential|key_?material");

    /**
     * Whether a plugin variable's value may be a secret and is therefore never recorded: its name
     * contains filekey, password, passwd, secret, token, credential or key material. A
     * {@code FILE:path} value is recorded (the file holds the secret; restore checks it is readable),
     * and so is an empty one (nothing set).
     */
    public static boolean isSecret(String variable, String value) {
        if (!SECRET.matcher(variable.toLowerCase(Locale.ROOT)).find()) {
            return false;
        }
        return value == null || (!value.isEmpty() && !value.startsWith(FILE_REFERENCE));
    }

    /**
     * The mariadbd options that load the recorded plugins with their recorded settings, for crash
     * recovery: {@code --plugin-load-add=NAME=LIBRARY} (a built-in plugin is not loaded), then
     * {@code --NAME-VAR=VALUE} for each recorded variable (underscores as dashes). Secrets are left
     * out, and so are empty values (the defaults); {@link #missingSecrets()} names what is left out.
     */
    @JsonIgnore
    public List<String> recoveryOptions() {
        List<String> out = new ArrayList<>();
        for (Plugin p : plugins) {
            if (p.library() != null && !p.library().isEmpty()) {
                out.add("--plugin-load-add=" + p.name() + "=" + p.library());
            }
        }
        for (Plugin p : plugins) {
            for (Map.Entry<String, String> v : p.variables().entrySet()) {
                if (v.getValue() != null && !v.getValue().isEmpty()) {
                    out.add("--" + v.getKey().toLowerCase(Locale.ROOT).replace('_', '-') + "=" + v.getValue());
                }
            }
        }
        return out;
    }

    /** "PLUGIN VARIABLE" for every secret the manifest does not hold (the server had it set). */
    @JsonIgnore
    public List<String> missingSecrets() {
        List<String> out = new ArrayList<>();
        for (Plugin p : plugins) {
            for (String s : p.secrets()) {
                out.add(p.name() + " " + s);
            }
        }
        return out;
    }
}
