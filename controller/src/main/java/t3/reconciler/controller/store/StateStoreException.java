package t3.reconciler.controller.store;

/**
 * The state database could not be opened, migrated, read or written. Unchecked because the store's API is
 * fixed and nearly every caller can only log it and stop: a controller that cannot record what it does must
 * not go on doing it.
 */
public class StateStoreException extends RuntimeException {
    public StateStoreException(String message, Throwable cause) { super(message, cause); }

    public StateStoreException(String message) { super(message); }
}
