package io.compozy.cache.web.store.resource;

import jakarta.json.JsonArray;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * One byte sequence per JSON value, so that the ETag (SHA-256 of those bytes) is the same in every
 * process whatever the JSON library:
 * <ul>
 *   <li>no whitespace; object members sorted by key in Unicode code point order (the order of their
 *       UTF-8 bytes), recursively; array order kept;</li>
 *   <li>numbers by value: {@code 1.50}, {@code 15e-1} and {@code 1.5} all give {@code 1.5}, and
 *       {@code -0} gives {@code 0}; integers of up to 21 digits and fractions down to {@code 1e-6} are
 *       written plainly ({@code 1e2} gives {@code 100}), the rest in Java's scientific form
 *       ({@code 1E+22}, {@code 1E-7});</li>
 *   <li>strings escape only {@code "}, {@code \} and control characters ({@code \b \f \n \r \t}, others
 *       as {@code \}{@code u00XX}); everything else is written as UTF-8.</li>
 * </ul>
 */
public final class CanonicalJson {

    private static final int MAX_PLAIN_DIGITS = 21;

    private CanonicalJson() {
    }

    /** The canonical text of {@code value}. */
    public static String write(final JsonValue value) {
        StringBuilder out = new StringBuilder();
        append(out, value);
        return out.toString();
    }

    /** Hex SHA-256 of the UTF-8 bytes of {@code canonicalText}: the resource's ETag. */
    public static String etagOf(final String canonicalText) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256")
                    .digest(canonicalText.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime provides SHA-256", e);
        }
    }

    private static void append(final StringBuilder out, final JsonValue value) {
        switch (value.getValueType()) {
            case OBJECT -> appendObject(out, (JsonObject) value);
            case ARRAY -> appendArray(out, (JsonArray) value);
            case STRING -> appendString(out, ((JsonString) value).getString());
            case NUMBER -> out.append(number(((JsonNumber) value).bigDecimalValue()));
            case TRUE -> out.append("true");
            case FALSE -> out.append("false");
            case NULL -> out.append("null");
            default -> throw new IllegalArgumentException("unknown JSON value type " + value.getValueType());
        }
    }

    private static void appendObject(final StringBuilder out, final JsonObject object) {
        List<String> keys = new ArrayList<>(object.keySet());
        keys.sort(CanonicalJson::compareCodePoints);
        out.append('{');
        for (int i = 0; i < keys.size(); i++) {
            if (i > 0) {
                out.append(',');
            }
            appendString(out, keys.get(i));
            out.append(':');
            append(out, object.get(keys.get(i)));
        }
        out.append('}');
    }

    private static void appendArray(final StringBuilder out, final JsonArray array) {
        out.append('[');
        for (int i = 0; i < array.size(); i++) {
            if (i > 0) {
                out.append(',');
            }
            append(out, array.get(i));
        }
        out.append(']');
    }

    private static void appendString(final StringBuilder out, final String text) {
        out.append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }

    static String number(final BigDecimal value) {
        if (value.signum() == 0) {
            return "0";
        }
        BigDecimal stripped = value.stripTrailingZeros();
        int integerDigits = stripped.precision() - stripped.scale();
        if (stripped.scale() <= 0 && integerDigits <= MAX_PLAIN_DIGITS) {
            return stripped.toPlainString();
        }
        if (stripped.scale() > 0 && integerDigits > -6) {
            return stripped.toPlainString(); // 0.000001 up to long fractions stay readable
        }
        return stripped.toString();
    }

    /** Code point order; differs from String.compareTo only around surrogate pairs. */
    private static int compareCodePoints(final String a, final String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            int ca = a.codePointAt(i);
            int cb = b.codePointAt(j);
            if (ca != cb) {
                return Integer.compare(ca, cb);
            }
            i += Character.charCount(ca);
            j += Character.charCount(cb);
        }
        return Integer.compare(a.length() - i, b.length() - j);
    }
}
