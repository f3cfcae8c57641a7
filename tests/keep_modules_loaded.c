/*
 * Linked into the test programs of sanitizer builds only. LeakSanitizer checks for leaks at
 * exit, after the Vulkan loader has unloaded the driver and the validation layer; whatever
 * those leak is then reported from an "<unknown module>" and cannot be told apart from a leak
 * of vkindex. With dlclose made a no-op every module stays mapped, so each report names its
 * module, tests/lsan.supp can name the validation layer's own leaks precisely, and every
 * allocation made by vkindex stays checked. (Drivers keep their global state reachable
 * while loaded, so they report nothing then.)
 */
int dlclose(void *handle);

int dlclose(void *handle)
{
    (void)handle;
    return 0;
}
