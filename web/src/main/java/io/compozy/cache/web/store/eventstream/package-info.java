/**
 * The execution event stream: numbered events per execution ({@code INCR {stream:events:<execId>}:seq}),
 * the last 500 kept in {@code {stream:events:<execId>}:log} (one hash tag, so one script updates both) for 24 h, each published on
 * {@code stream:events:<execId>}, so that a reader can replay after the last id it saw and then follow.
 */
package io.compozy.cache.web.store.eventstream;
