/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The pullmail authors
 */
/* Placeholder: signing in and refreshing OAuth2 tokens (see pullmail.h). */

#include "config.h"

#include "pullmail.h"
