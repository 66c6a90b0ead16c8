// LvsDirect configures Linux kernel state (iproute2, arptables); it has no meaning on other platforms.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
