package t3.reconciler.controller.actuator;

import java.time.Duration;
import java.util.List;

/** systemd, over D-Bus. Jobs are waited for through the {@code JobRemoved} signal, never by polling. */
public interface Units extends AutoCloseable {
    /** Every loaded unit matching a glob such as {@code t3-serve@*.service}. */
    List<UnitStatus> list(String pattern) throws ActuatorException;

    /** One unit's status; {@link UnitStatus#missing} when systemd does not know it. */
    UnitStatus status(String unit) throws ActuatorException;

    /** Restarts and waits for the job; throws unless the job result is {@code done} and the unit ends up active. */
    void restart(String unit, Duration timeout) throws ActuatorException;

    void stop(String unit, Duration timeout) throws ActuatorException;

    void start(String unit, Duration timeout) throws ActuatorException;

    @Override
    void close();
}
