package io.strata.repo;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

/** The one JSON mapper of the tool: stable field order, unknown fields ignored for forward reads. */
public final class Json {
    private Json() {}

    public static final ObjectMapper MAPPER = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
            .configure(SerializationFeature.INDENT_OUTPUT, true)
            .setSerializationInclusion(JsonInclude.Include.ALWAYS);

    /**
     * Builds the mapper and the deserializers of what nearly every command reads first (the
     * repository marker, history records, manifests), with nothing read. Creating them costs a
     * short run about a tenth of a second of class loading and reflection at its start; strata's
     * entry point calls this on a thread of its own, so that the work overlaps the parsing of the
     * command line (the deserializers are cached in {@link #MAPPER}, which is thread-safe).
     */
    public static void warmUp() {
        try {
            MAPPER.readerFor(java.util.Map.class);
            MAPPER.readerFor(HistoryRecord.class);
            MAPPER.readerFor(Manifest.class);
        } catch (RuntimeException e) {
            // only a head start: the read that needs a deserializer builds it again and reports what fails
        }
    }
}
