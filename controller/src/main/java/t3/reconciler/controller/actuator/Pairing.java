package t3.reconciler.controller.actuator;

import java.nio.file.Path;
import t3.reconciler.model.DesiredState;
import t3.reconciler.model.User;

/** Proves a user can pair with their own server after a restart: the canary's analysis. */
public interface Pairing {
    /**
     * Through the dispatch when {@code spec.canary().dispatch()} is set, else by the mint → exchange → session round trip
     * against the user's own server (its port found from {@code mainPid}'s listening socket; the credential minted with
     * {@code t3Binary auth pairing create --base-dir baseDir} run as the user). Bounded retries inside.
     */
    HealthCheck.Result verify(User user, long mainPid, Path baseDir, Path t3Binary, DesiredState spec) throws ActuatorException;
}
