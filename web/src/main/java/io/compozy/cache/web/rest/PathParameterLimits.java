package io.compozy.cache.web.rest;

import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.ext.Provider;
import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.config.ConfigProvider;

/**
 * Checks every path parameter (keys, ids, names, projects) before a store sees it: at most
 * {@value #MAX_LENGTH_KEY} characters (default {@value #DEFAULT_MAX_LENGTH}), no control characters
 * (they end up in keys, log lines and SSE frames). A 400 names the parameter. The stores' own rules
 * (no {@code :} in a project, reserved suffixes) come after this.
 */
@Provider
public class PathParameterLimits implements ContainerRequestFilter {

    /** Config key of the longest accepted path parameter, in characters. */
    public static final String MAX_LENGTH_KEY = "api.max_key_length";
    public static final int DEFAULT_MAX_LENGTH = 512;

    private final int maxLength;

    /** The server's instance: the limit comes from MicroProfile Config. */
    public PathParameterLimits() {
        this(ConfigProvider.getConfig().getOptionalValue(MAX_LENGTH_KEY, Integer.class).orElse(DEFAULT_MAX_LENGTH));
    }

    /** Package-private so that JAX-RS, choosing among public constructors, always takes the one above. */
    PathParameterLimits(final int maxLength) {
        if (maxLength < 1) {
            throw new IllegalArgumentException(MAX_LENGTH_KEY + " must be at least 1, got " + maxLength);
        }
        this.maxLength = maxLength;
    }

    @Override
    public void filter(final ContainerRequestContext request) {
        for (Map.Entry<String, List<String>> parameter : request.getUriInfo().getPathParameters(true).entrySet()) {
            for (String value : parameter.getValue()) {
                check(parameter.getKey(), value);
            }
        }
    }

    void check(final String name, final String value) {
        if (value.length() > maxLength) {
            throw ApiProblem.badRequest("Path parameter '" + name + "' is " + value.length()
                    + " characters long; the limit is " + maxLength + " (" + MAX_LENGTH_KEY + ")");
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (Character.isISOControl(c)) {
                throw ApiProblem.badRequest("Path parameter '" + name + "' contains the control character U+"
                        + String.format("%04X", (int) c) + " at position " + i + "; keys and ids may not");
            }
            if (Character.isSurrogate(c) && !(Character.isHighSurrogate(c) && i + 1 < value.length()
                    && Character.isLowSurrogate(value.charAt(++i)))) {
                throw ApiProblem.badRequest("Path parameter '" + name + "' is not valid UTF-8 text");
            }
            if (c == '\uFFFD') {
                throw ApiProblem.badRequest("Path parameter '" + name + "' is not valid UTF-8 text (it decodes to"
                        + " U+FFFD); percent-encode UTF-8 bytes");
            }
        }
    }
}
