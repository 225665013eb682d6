package io.compozy.cache.web.store.resource;

import io.compozy.cache.web.store.StoreException;
import java.util.Optional;

/**
 * Which resource: project, type, id and an optional version.
 *
 * <p>Project, type and version may not contain {@code :} (they are key separators); an id may, but may
 * neither contain {@code :ver:} nor end with {@code :etag}, so that a listing can always tell the
 * parts apart.
 */
public record ResourceKey(String project, String type, String id, String version) {

    static final String VERSION_SEPARATOR = ":ver:";
    /** What a resource's ETag key adds to its value's key. */
    public static final String ETAG_SUFFIX = ":etag";

    public ResourceKey {
        noColon(StoreException.requireText(project, "project"), "project");
        noColon(StoreException.requireText(type, "type"), "type");
        StoreException.requireText(id, "resource id");
        if (id.contains(VERSION_SEPARATOR) || id.endsWith(ETAG_SUFFIX)) {
            throw StoreException.invalid("resource id '" + id + "' may not contain ':ver:' or end with ':etag'"
                    + " (they mark versions and ETags in the key)");
        }
        if (version != null) {
            noColon(StoreException.requireText(version, "version"), "version");
        }
    }

    /** An unversioned key. */
    public static ResourceKey of(final String project, final String type, final String id) {
        return new ResourceKey(project, type, id, null);
    }

    public Optional<String> versionIfAny() {
        return Optional.ofNullable(version);
    }

    /** The id, plus {@code :ver:{version}} when versioned: what follows {@code {prefix}:{project}:{type}:}. */
    String suffix() {
        return version == null ? id : id + VERSION_SEPARATOR + version;
    }

    /** The reverse of {@link #suffix()}; a suffix no key has is an {@code INVALID_ARGUMENT}. */
    public static ResourceKey fromSuffix(final String project, final String type, final String suffix) {
        int at = suffix.lastIndexOf(VERSION_SEPARATOR);
        if (at < 0) {
            return new ResourceKey(project, type, suffix, null);
        }
        return new ResourceKey(project, type, suffix.substring(0, at), suffix.substring(at + VERSION_SEPARATOR.length()));
    }

    private static void noColon(final String part, final String what) {
        if (part.indexOf(':') >= 0) {
            throw StoreException.invalid(what + " '" + part + "' may not contain ':'");
        }
    }
}
