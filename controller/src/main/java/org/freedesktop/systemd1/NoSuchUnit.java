package org.freedesktop.systemd1;

import org.freedesktop.dbus.exceptions.DBusExecutionException;

/**
 * D-Bus error {@code org.freedesktop.systemd1.NoSuchUnit}: systemd does not know the unit (GetUnit on a unit that is not loaded).
 * dbus-java turns an error into the class named like the error, else into a bare DBusExecutionException
 * that has lost the name; hence this class, its package and its name.
 */
public class NoSuchUnit extends DBusExecutionException {
    public NoSuchUnit(String message) { super(message); }
}
