/**
 * The JAX-RS API under {@code /api}: one resource class per store, one {@link
 * io.compozy.cache.web.rest.ProblemMapper} turning every failure into {@code application/problem+json},
 * and {@link io.compozy.cache.web.rest.BodySizeLimit} refusing oversize bodies. Request bodies are read
 * as streams and parsed by {@link io.compozy.cache.web.rest.JsonBody}, so malformed JSON and wrong
 * types are 400s with a message saying what to send, never 500s. Streams are Server-Sent Events.
 */
package io.compozy.cache.web.rest;
