/** The scaler: scaling policies as pure functions and the controller that applies their decisions. */
package io.vmscale.scaler;
