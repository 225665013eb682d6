/** Tests about the server's life itself: each starts (and kills) the installed Liberty server. */
package io.compozy.cache.it.lifecycle;
