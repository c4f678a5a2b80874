/** The load generator and client-side balancer. */
package io.vmscale.balancer;
