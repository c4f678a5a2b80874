package io.vmscale.broker.event;

/** What a scaling decision does. */
public enum ScaleAction {
    UP, DOWN, REPLACE, HOLD
}
