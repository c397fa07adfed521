package t3.reconciler.controller.actuator.proc;

import java.io.IOException;
import t3.reconciler.controller.actuator.ActuatorException;

/** {@code install.user} looked up when candidate code is about to run, so a missing account names itself then. */
public final class CandidateAccount {
    private CandidateAccount() {}

    /**
     * A missing account is a transient fault, not a verdict on the build: the step is retried with backoff once the
     * operator has created it, and no version is blocked for it.
     */
    public static Account resolve(String name) throws ActuatorException {
        try {
            return Account.unprivileged(name);
        } catch (IOException e) {
            throw new ActuatorException("cannot run candidate code as install.user: " + e.getMessage()
                    + " (create it with 'useradd --system --no-create-home --shell /usr/sbin/nologin " + name + "')", true, e);
        }
    }
}
