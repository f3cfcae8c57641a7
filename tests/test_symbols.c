/*
 * Only vki_* symbols are exported: reads the dynamic symbol table of the shared library
 * (path in argv[1]) and fails on any defined global or weak symbol with another name. Also
 * checks that no Vulkan loader is a DT_NEEDED dependency (volk loads it at run time).
 */
#include <elf.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static const char *library_path;

static unsigned char *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)n);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *size = (size_t)n;
    return buf;
}

static void only_vki_symbols_exported(void **state)
{
    (void)state;
    size_t size;
    unsigned char *img = read_file(library_path, &size);
    if (!img)
        fail_msg("cannot read %s", library_path);
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)(const void *)img;
    assert_memory_equal(eh->e_ident, ELFMAG, SELFMAG);
    assert_int_equal(eh->e_ident[EI_CLASS], ELFCLASS64);
    const Elf64_Shdr *sh = (const Elf64_Shdr *)(const void *)(img + eh->e_shoff);
    int exported = 0, foreign = 0, needs_vulkan = 0;
    for (int s = 0; s < eh->e_shnum; s++) {
        if (sh[s].sh_type == SHT_DYNSYM) {
            const Elf64_Sym *sym = (const Elf64_Sym *)(const void *)(img + sh[s].sh_offset);
            const char *names = (const char *)img + sh[sh[s].sh_link].sh_offset;
            size_t count = sh[s].sh_size / sizeof *sym;
            for (size_t i = 1; i < count; i++) {
                int bind = ELF64_ST_BIND(sym[i].st_info);
                if (sym[i].st_shndx == SHN_UNDEF || (bind != STB_GLOBAL && bind != STB_WEAK))
                    continue;
                const char *name = names + sym[i].st_name;
                if (!strncmp(name, "vki_", 4)) {
                    printf("# exported: %s\n", name);
                    exported++;
                } else {
                    printf("not a vki_ symbol: %s\n", name);
                    foreign++;
                }
            }
        }
        if (sh[s].sh_type == SHT_DYNAMIC) {
            const Elf64_Dyn *dyn = (const Elf64_Dyn *)(const void *)(img + sh[s].sh_offset);
            const char *names = (const char *)img + sh[sh[s].sh_link].sh_offset;
            for (size_t i = 0; dyn[i].d_tag != DT_NULL; i++)
                if (dyn[i].d_tag == DT_NEEDED && strstr(names + dyn[i].d_un.d_val, "vulkan")) {
                    printf("links a Vulkan library: %s\n", names + dyn[i].d_un.d_val);
                    needs_vulkan++;
                }
        }
    }
    printf("# %d exported symbols\n", exported);
    free(img);
    assert_int_equal(foreign, 0);
    assert_int_equal(needs_vulkan, 0);
    assert_true(exported >= 19);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s libvkindex.so\n", argv[0]);
        return 2;
    }
    library_path = argv[1];
    const struct CMUnitTest tests[] = {cmocka_unit_test(only_vki_symbols_exported)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
