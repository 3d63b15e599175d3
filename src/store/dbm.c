/* SPDX-License-Identifier: MIT */
/* A foreign Berkeley DB file read record by record (htdbm -TDB output).
 * Only store/ includes db.h. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <db.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/ct.h"
#include "store/dbm.h"

/* Magic numbers of the metadata page (db_page.h), at byte 12. */
#define BNC_STORE_DBM_HASH_MAGIC 0x061561u
#define BNC_STORE_DBM_BTREE_MAGIC 0x053162u

static uint32_t
bnc_store_dbm_swap(uint32_t v)
{
    return (v >> 24) | ((v >> 8) & 0xff00u) | ((v << 8) & 0xff0000u) |
           (v << 24);
}

int
bnc_store_dbm_probe(const char *path)
{
    unsigned char hdr[16];
    uint32_t m;
    ssize_t n;
    int fd;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    n = read(fd, hdr, sizeof(hdr));
    close(fd);
    if (n < 0)
        return -1;
    if (n < (ssize_t)sizeof(hdr))
        return 0;
    memcpy(&m, hdr + 12, 4);
    return m == BNC_STORE_DBM_HASH_MAGIC || m == BNC_STORE_DBM_BTREE_MAGIC ||
           bnc_store_dbm_swap(m) == BNC_STORE_DBM_HASH_MAGIC ||
           bnc_store_dbm_swap(m) == BNC_STORE_DBM_BTREE_MAGIC;
}

int
bnc_store_dbm_foreach(const char *path, bnc_store_dbm_fn fn, void *arg,
                      struct bnc_err *err)
{
    DB *db = NULL;
    DBC *c = NULL;
    DBT key, data;
    int ret, rc = -1;

    ret = db_create(&db, NULL, 0);
    if (ret != 0) {
        bnc_err_set(err, "cannot create a Berkeley DB handle: %s",
                    db_strerror(ret));
        return -1;
    }
    /* DB_UNKNOWN: htdbm writes a hash database, other tools a btree. */
    ret = db->open(db, NULL, path, NULL, DB_UNKNOWN, DB_RDONLY, 0);
    if (ret != 0) {
        bnc_err_set(err, "cannot open %s as a Berkeley DB database: %s", path,
                    ret == ENOENT || ret == EACCES ? strerror(ret)
                                                   : db_strerror(ret));
        goto out;
    }
    ret = db->cursor(db, NULL, &c, 0);
    if (ret != 0) {
        bnc_err_set(err, "%s: %s", path, db_strerror(ret));
        goto out;
    }
    memset(&key, 0, sizeof(key));
    memset(&data, 0, sizeof(data));
    while ((ret = c->get(c, &key, &data, DB_NEXT)) == 0) {
        if (fn(key.data, key.size, data.data, data.size, arg) != 0)
            break;
    }
    if (ret != 0 && ret != DB_NOTFOUND) {
        bnc_err_set(err, "%s: reading records: %s", path, db_strerror(ret));
        goto out;
    }
    rc = 0;
out:
    if (c != NULL)
        (void)c->close(c);
    (void)db->close(db, 0);
    return rc;
}
