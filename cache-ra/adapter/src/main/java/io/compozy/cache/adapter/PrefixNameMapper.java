package io.compozy.cache.adapter;

import org.redisson.api.NameMapper;

/**
 * A factory's key prefix, applied by Redisson to every object name: the application writes {@code orders} and
 * Redis holds {@code appA:orders}, so the same code runs with and without a prefix.
 */
record PrefixNameMapper(String prefix) implements NameMapper {

    @Override
    public String map(final String name) {
        return prefix + name;
    }

    @Override
    public String unmap(final String name) {
        return name.startsWith(prefix) ? name.substring(prefix.length()) : name;
    }
}
