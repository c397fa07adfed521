package t3.reconciler.controller.cli;

import picocli.CommandLine.Command;

@Command(name = "fleet", mixinStandardHelpOptions = true, description = {
        "The hosts of this host's fleet group (the fleet: section), read and steered through their etcd.",
        "These commands write etcd directly: they are the group's requests, not this host's daemon's."},
        subcommands = {FleetStatusCommand.class, FleetUnlockCommand.class, FleetFreezeCommand.class, FleetUnfreezeCommand.class, FleetUnblockCommand.class})
final class FleetCommand {}
