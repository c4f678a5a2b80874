package io.vmscale.broker.event;

/** What a scaling decision does; MIGRATE moves a replica to another host (the count stays). */
public enum ScaleAction {
    UP, DOWN, REPLACE, HOLD, MIGRATE
}
