package io.strata.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.strata.error.ErrorCode;
import io.strata.error.StrataException;
import io.strata.repo.Json;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code --json}, shared by every command but demo and cds-train: stdout then carries exactly one
 * JSON document (an object, or the array list prints) and the human text goes to stderr. A
 * command that fails prints {@link #error} instead; {@link Main}'s handlers do that for every
 * error that ends a command, so commands print only their result.
 */
final class JsonMixin {
    /** The option's name; {@link Main} looks it up on the command that failed. */
    static final String NAME = "--json";

    @Option(names = NAME, description = "Print one JSON document on stdout (the human text goes to stderr); on failure "
            + "{\"ok\":false,\"error\":{...}} (see README, \"Machine-readable output\").")
    boolean json;

    /** Where the human text goes: stderr with --json, else stdout. */
    PrintStream text() {
        return json ? System.err : System.out;
    }

    /** Prints {@code doc} as the command's one JSON document on stdout. */
    static void print(Object doc) {
        try {
            System.out.println(Json.MAPPER.writeValueAsString(doc));
            System.out.flush();
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write " + doc.getClass().getSimpleName() + " as JSON", e);
        }
    }

    /** {@code {"ok":true}} followed by {@code fields}, in their order. */
    static Map<String, Object> ok(Map<String, Object> fields) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("ok", true);
        m.putAll(fields);
        return m;
    }

    /** {@code {"id":"<code name>","exitCode":N,"message":"…","hint":"…"}}: an error as --json reports it (hint null when none). */
    static Map<String, Object> errorObject(ErrorCode code, String message, String hint) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("id", code.id());
        e.put("exitCode", code.exitCode());
        e.put("message", message);
        e.put("hint", hint);
        return e;
    }

    static Map<String, Object> errorObject(StrataException e) {
        return errorObject(e.code(), e.getMessage(), e.hint());
    }

    /**
     * A command's own failure that carries its result: the ERROR and HINT lines on stderr and,
     * with {@code json}, the failure document with {@code fields} beside {@code error} on stdout.
     *
     * @return the exit code of {@code e}
     */
    static int fail(StrataException e, boolean json, Map<String, Object> fields) {
        System.err.println(e.render());
        if (json) {
            Map<String, Object> failed = failure(errorObject(e));
            failed.putAll(fields);
            print(failed);
        }
        return e.code().exitCode();
    }

    /** {@code {"ok":false,"error":{…}}}, the document of a command that failed. */
    static Map<String, Object> failure(Map<String, Object> error) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("ok", false);
        m.put("error", error);
        return m;
    }

    /** Whether {@code cmd} was given --json (false for a command without the option). */
    static boolean given(CommandLine cmd) {
        OptionSpec o = cmd == null ? null : cmd.getCommandSpec().findOption(NAME);
        return o != null && Boolean.TRUE.equals(o.getValue());
    }

    /** Whether the raw arguments ask for --json, for errors before or during parsing. */
    static boolean given(String[] args) {
        for (String a : args) {
            if (a.equals("--")) {
                return false;
            }
            if (a.equals(NAME)) {
                return true;
            }
        }
        return false;
    }
}
