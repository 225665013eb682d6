package io.compozy.cache.web.access;

import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The REST API's access settings ({@value #ACCESS_KEY}, {@value #ALLOWED_HOSTS_KEY}) and the checks
 * {@link ApiAccessGuard} makes with them. Pure: no request, no container, so each rule is tested alone.
 *
 * @param open     {@value #ACCESS_KEY}=open: the roles reader and writer are anyone's, so the API serves
 *                 loopback only
 * @param hosts    the names a request on loopback may carry in its Host header, besides localhost and
 *                 loopback addresses
 */
public record ApiAccess(boolean open, Set<String> hosts) {

    /** open | login: which api-access-*.xml server.xml includes (its role bindings). */
    public static final String ACCESS_KEY = "api.access";
    /** Comma-separated host names a request on loopback may name in Host (a proxy's public name, say). */
    public static final String ALLOWED_HOSTS_KEY = "api.allowed_hosts";

    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");

    public ApiAccess {
        hosts = Set.copyOf(hosts);
    }

    /**
     * Reads the two keys.
     *
     * @throws IllegalArgumentException naming {@value #ACCESS_KEY} when it is neither open nor login
     */
    public static ApiAccess of(final Optional<String> access, final Optional<String> allowedHosts) {
        String value = access.map(String::trim).orElse("open");
        boolean open = switch (value) {
            case "open" -> true;
            case "login" -> false;
            default -> throw new IllegalArgumentException(ACCESS_KEY + " must be open or login, got '" + value + "'");
        };
        Set<String> hosts = Arrays.stream(allowedHosts.orElse("").split(",")).map(String::trim)
                .filter(h -> !h.isEmpty()).map(h -> h.toLowerCase(Locale.ROOT)).collect(Collectors.toSet());
        return new ApiAccess(open, hosts);
    }

    /** Whether the address a request reached (the servlet's local address, a literal) is a loopback one. */
    public static boolean isLoopback(final String localAddress) {
        return literal(localAddress).map(InetAddress::isLoopbackAddress).orElse(false);
    }

    /**
     * Whether a Host header names this server as a loopback client would: localhost, a loopback address, or
     * one of {@link #hosts}. Any other name is how DNS rebinding looks (a page's own name resolving to
     * 127.0.0.1): never resolved, refused.
     */
    public boolean hostAllowed(final String hostHeader) {
        if (hostHeader == null || hostHeader.isBlank()) {
            return false;
        }
        String host;
        try {
            host = URI.create("http://" + hostHeader.trim() + "/").getHost();
        } catch (IllegalArgumentException e) {
            return false;
        }
        if (host == null) {
            return false;
        }
        host = host.toLowerCase(Locale.ROOT);
        if (host.equals("localhost") || hosts.contains(host)) {
            return true;
        }
        boolean isLiteral = IPV4.matcher(host).matches() || host.startsWith("[");
        return isLiteral && isLoopback(host.replaceAll("^\\[|\\]$", ""));
    }

    /**
     * Whether a request that changes something comes from another site's page: a browser says so in
     * Sec-Fetch-Site, or sends an Origin that is not the Host it talks to. Clients that are not browsers
     * (curl, applications) send neither.
     */
    public static boolean crossSite(final String hostHeader, final String origin, final String fetchSite) {
        if (fetchSite != null && !fetchSite.equals("same-origin") && !fetchSite.equals("none")) {
            return true;
        }
        if (origin == null) {
            return false;
        }
        try {
            URI uri = URI.create(origin.trim());
            String authority = uri.getRawAuthority();
            return authority == null || hostHeader == null
                    || !authority.equalsIgnoreCase(hostHeader.trim());
        } catch (IllegalArgumentException e) {
            return true; // "null" (a sandboxed page) or garbage
        }
    }

    /** Media types a plain HTML form can post without any script: refused on the admin calls. */
    public static boolean formType(final String contentType) {
        if (contentType == null) {
            return false;
        }
        String type = contentType.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
        return type.equals("application/x-www-form-urlencoded") || type.equals("multipart/form-data")
                || type.equals("text/plain");
    }

    private static Optional<InetAddress> literal(final String address) {
        if (address == null || address.isBlank() || !(IPV4.matcher(address).matches() || address.contains(":"))) {
            return Optional.empty(); // a name: never looked up
        }
        try {
            return Optional.of(InetAddress.getByName(address));
        } catch (UnknownHostException e) {
            return Optional.empty();
        }
    }
}
