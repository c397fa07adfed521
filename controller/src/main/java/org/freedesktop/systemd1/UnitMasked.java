package org.freedesktop.systemd1;

import org.freedesktop.dbus.exceptions.DBusExecutionException;

/**
 * D-Bus error {@code org.freedesktop.systemd1.UnitMasked}: The unit is masked.
 * dbus-java turns an error into the class named like the error, else into a bare DBusExecutionException
 * that has lost the name; hence this class, its package and its name.
 */
public class UnitMasked extends DBusExecutionException {
    public UnitMasked(String message) { super(message); }
}
