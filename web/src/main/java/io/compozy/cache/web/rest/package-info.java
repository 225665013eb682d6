/** The JAX-RS application: every endpoint lives under {@code /api}. */
package io.compozy.cache.web.rest;
