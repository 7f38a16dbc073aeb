#ifndef AUTHMILTER_LOG_H
#define AUTHMILTER_LOG_H
#endif
