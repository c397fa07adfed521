package org.freedesktop.systemd1;

import org.freedesktop.dbus.exceptions.DBusExecutionException;

/**
 * D-Bus error {@code org.freedesktop.systemd1.LoadFailed}: The unit file could not be loaded.
 * dbus-java turns an error into the class named like the error, else into a bare DBusExecutionException
 * that has lost the name; hence this class, its package and its name.
 */
public class LoadFailed extends DBusExecutionException {
    public LoadFailed(String message) { super(message); }
}
