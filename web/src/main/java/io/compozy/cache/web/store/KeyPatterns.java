package io.compozy.cache.web.store;

/** Building SCAN MATCH patterns from user-supplied parts without letting them widen the match. */
public final class KeyPatterns {

    private KeyPatterns() {
    }

    /** Escapes the glob characters {@code * ? [ ] \} so that {@code text} matches only itself. */
    public static String escapeGlob(final String text) {
        StringBuilder escaped = new StringBuilder(text.length() + 8);
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') {
                escaped.append('\\');
            }
            escaped.append(c);
        }
        return escaped.toString();
    }

    /** A pattern matching every key that starts with the literal {@code prefix}. */
    public static String startingWith(final String prefix) {
        return escapeGlob(prefix) + "*";
    }
}
