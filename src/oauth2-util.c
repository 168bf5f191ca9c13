/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The pullmail authors
 */
/* Placeholder: the parts of OAuth2 without network I/O (see pullmail.h). */

#include "config.h"

#include "pullmail.h"
