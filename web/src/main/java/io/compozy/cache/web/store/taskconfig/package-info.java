/**
 * The task config store: JSON at {@code config:{taskExecId}} and {@code metadata:{key}}, written with a
 * TTL (24 h by default) that every read extends ({@code GETEX ... PX}).
 */
package io.compozy.cache.web.store.taskconfig;
