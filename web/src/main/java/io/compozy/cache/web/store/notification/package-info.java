/**
 * The notification system: JSON messages on {@code workflow:{id}} and {@code task:{id}} (a task event
 * naming its workflow also goes to the workflow channel), subscriptions by channel or by the patterns
 * {@code workflow:*} and {@code task:*}, each with a bounded queue that drops (and counts) rather than
 * slows publishers.
 */
package io.compozy.cache.web.store.notification;
