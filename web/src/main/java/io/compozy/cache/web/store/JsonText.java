package io.compozy.cache.web.store;

import jakarta.json.Json;
import jakarta.json.JsonException;
import jakarta.json.JsonReader;
import jakarta.json.JsonValue;
import java.io.StringReader;

/** Reading JSON text that a store wrote earlier, with an error that names the key when it fails. */
public final class JsonText {

    private JsonText() {
    }

    /** Parses {@code text} stored at {@code key}; undecodable data fails with {@code CORRUPT_DATA}. */
    public static JsonValue parseStored(final String text, final String key) {
        try (JsonReader reader = Json.createReader(new StringReader(text))) {
            return reader.readValue();
        } catch (JsonException e) {
            throw new StoreException(StoreException.Reason.CORRUPT_DATA, "the value at Redis key '" + key
                    + "' is not valid JSON (" + e.getMessage() + "); rewrite or delete that key", e);
        }
    }
}
