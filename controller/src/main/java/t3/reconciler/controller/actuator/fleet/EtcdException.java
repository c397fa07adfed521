package t3.reconciler.controller.actuator.fleet;

import t3.reconciler.controller.actuator.ActuatorException;

/** etcd did not answer, or answered with an error. Always transient from the loop's point of view: etcd comes back. */
public class EtcdException extends ActuatorException {
    public EtcdException(String message, Throwable cause) {
        super(message, true, cause);
    }

    public EtcdException(String message) {
        this(message, null);
    }
}
