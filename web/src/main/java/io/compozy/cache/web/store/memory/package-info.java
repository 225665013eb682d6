/**
 * The memory store: conversation history as a Redis list of JSON messages at {@code {prefix}{key}},
 * with its counts in the hash {@code {key}:metadata}, changed only by the Lua scripts beside it.
 */
package io.compozy.cache.web.store.memory;
